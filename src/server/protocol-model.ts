// The protocol's view of the generated model (src/generated/ssm-model.json): which operations exist in AWS's
// API, which Patchline models, which errors each operation declares, and request validation before dispatch.

import model from '../generated/ssm-model.json' with { type: 'json' };
import { createRequestValidator, type RequestValidator, type ValidationOutcome } from './validate.ts';

export class ProtocolModel {
  readonly #errors = new Map<string, Set<string>>();
  readonly #validator: RequestValidator = createRequestValidator(model);
  readonly targetPrefix: string = this.#validator.targetPrefix;

  constructor() {
    for (const [name, op] of Object.entries(model.operations as Record<string, { errors?: string[] }>)) {
      this.#errors.set(name, new Set(op.errors ?? []));
    }
  }

  /** True for every operation of the AWS SSM API, implemented or not. */
  isAwsOperation(name: string): boolean {
    return this.#validator.isAwsOperation(name);
  }

  /** Whether the model lists `code` among the operation's errors (e.g. InvalidNextToken). */
  modelsError(operation: string, code: string): boolean {
    return this.#errors.get(operation)?.has(code) ?? false;
  }

  validate(operation: string, body: unknown): ValidationOutcome {
    return this.#validator.validate(operation, body);
  }
}
