import type { RequestHandler } from 'express';

/**
 * The API security headers of the OWASP REST Security cheat sheet, on every response (errors and
 * 404s included). JSON is never to be sniffed, framed or rendered as a page, and no answer goes to a
 * cache: user objects, lists, tokens and histories are personal data. A route whose answer is public
 * and cacheable (the JWKS, the API document) sets its own Cache-Control, replacing this default.
 */
export const securityHeaders: RequestHandler = (req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  // Only over https (req.secure honours `trust proxy`): on plain http the header means nothing, and
  // sent from a development host it would pin that name to https in the browser.
  if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  next();
};
