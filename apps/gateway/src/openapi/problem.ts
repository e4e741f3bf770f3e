import { ErrorCode, FieldError } from '@um/contracts';
import { z } from 'zod';

/** The body of every error answer: RFC 9457 problem details with this API's members. */
export const Problem = z
  .object({
    type: z.string().describe('Always `about:blank`: the status says what happened'),
    title: z.string().describe('The HTTP status text'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('What went wrong, for a person: names each invalid field and rule'),
    code: ErrorCode,
    errors: z.array(FieldError).optional().describe('With 409 and 422: one entry per field, named by its dotted path (an unknown field by its own name)'),
    request_id: z.string().describe('Quote it when reporting a problem: the logs of every service carry it'),
    mfa_ticket: z.string().optional().describe('With code `mfa_required`: send it with a code to POST /login/mfa'),
    expires_in: z.number().int().optional().describe('With code `mfa_required`: seconds the ticket stays valid'),
  })
  .meta({ id: 'Problem' });
