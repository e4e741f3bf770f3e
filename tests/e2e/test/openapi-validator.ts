import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Reply } from './harness.js';

// ajv-formats is CommonJS with a default export; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

interface HeaderObject {
  required?: boolean;
  schema: object;
}
interface ResponseObject {
  headers?: Record<string, HeaderObject | { $ref: string }>;
  content?: Record<string, { schema: object }>;
}
interface OperationObject {
  operationId: string;
  responses: Record<string, ResponseObject>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components: { headers?: Record<string, HeaderObject> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
/** A JSON pointer segment (RFC 6901), percent-encoded for a URI fragment. */
const segment = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));

/**
 * Checks real answers against the API document: the status is one the operation documents, every
 * header it marks required is there and every documented header sent matches its schema, and the
 * body has the documented media type and validates (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses,
 * with formats). Records which statuses each operation was seen answering.
 */
export class DocumentedApi {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  /** `GET /users/{user_id}` → the statuses it answered. */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly doc: OpenApiDocument) {
    addFormats(this.ajv);
    // OpenAPI's own hint for user interfaces; any string is one.
    this.ajv.addFormat('password', true);
    this.ajv.addSchema(doc, 'openapi.json');
  }

  /** Every operation of the document, as `METHOD /path/{param}`. */
  operations(): string[] {
    return Object.entries(this.doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
  }

  /** The statuses an operation documents. */
  documented(operation: string): number[] {
    const [method, path] = operation.split(' ') as [string, string];
    return Object.keys(this.doc.paths[path]![method.toLowerCase()]!.responses).map(Number);
  }

  private validator(pointer: string): ValidateFunction {
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `openapi.json#${pointer}` });
      this.validators.set(pointer, v);
    }
    return v;
  }

  private validate(pointer: string, value: unknown): string[] {
    const v = this.validator(pointer);
    return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  /** What is wrong with this answer to `operation` (`METHOD /path/{param}`), if anything. */
  problems(operation: string, reply: Reply): string[] {
    const [method, path] = operation.split(' ') as [string, string];
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${operation} is not in the document`];
    const statuses = this.seen.get(operation) ?? new Set<number>();
    statuses.add(reply.status);
    this.seen.set(operation, statuses);
    const response = op.responses[String(reply.status)];
    if (!response) return [`${operation} answered ${reply.status}, which it does not document (documented: ${Object.keys(op.responses).join(', ')})`];
    const base = `/paths/${segment(path)}/${method.toLowerCase()}/responses/${reply.status}`;
    const found: string[] = [];
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const ref = '$ref' in declared ? declared.$ref : undefined;
      const header = ref ? this.doc.components.headers![ref.split('/').pop()!]! : (declared as HeaderObject);
      const pointer = ref ? `${ref.slice(1)}/schema` : `${base}/headers/${segment(name)}/schema`;
      const value = reply.headers.get(name);
      if (value === null) {
        if (header.required) found.push(`header ${name} is missing`);
        continue;
      }
      for (const p of this.validate(pointer, value)) found.push(`header ${name}: ${p}`);
    }
    const contentType = reply.headers.get('content-type')?.split(';')[0]?.trim();
    const media = Object.keys(response.content ?? {});
    if (media.length === 0) {
      if (reply.body !== undefined && reply.body !== '') found.push(`a body where none is documented: ${JSON.stringify(reply.body).slice(0, 200)}`);
    } else if (!contentType || !media.includes(contentType)) found.push(`content type ${contentType} is not one of ${media.join(', ')}`);
    else for (const p of this.validate(`${base}/content/${segment(contentType)}/schema`, reply.body)) found.push(`body ${p}`);
    return found.map((p) => `${operation} ${reply.status}: ${p}`);
  }
}
