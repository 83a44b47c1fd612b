// Service errors: the one place where an AWS error code meets its HTTP status and wire body.
// Every failure a client can see is a ServiceError; anything else becomes InternalServerError.
// Wire format (AWS JSON 1.1): {"__type": code, "message": text} plus the X-Amzn-ErrorType header.

export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra modelled members placed at the top level of the body (e.g. TypeName on inventory errors). */
  readonly members: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: { status?: number; members?: Record<string, unknown> } = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = options.status ?? 400;
    this.members = options.members;
  }

  /** The JSON body sent to the client. `Message` fills the modelled member in SDK v3; `message` is read by every client. */
  toBody(): Record<string, unknown> {
    return { __type: this.code, message: this.message, Message: this.message, ...this.members };
  }
}

/** Shorthands for errors used in more than one place; names are the AWS codes. */
export const Errors = {
  validation: (message: string) => new ServiceError('ValidationException', message),
  serialization: (message: string) => new ServiceError('SerializationException', message),
  doesNotExist: (message: string) => new ServiceError('DoesNotExistException', message),
  invalidResourceId: (message = 'The resource ID is not valid. Verify that you entered the correct ID and try again.') =>
    new ServiceError('InvalidResourceId', message),
  invalidResourceType: (message = 'The resource type is not valid.') => new ServiceError('InvalidResourceType', message),
  invalidNextToken: (message = 'The specified token is not valid.') => new ServiceError('InvalidNextToken', message),
  invalidFilter: (message: string) => new ServiceError('InvalidFilter', message),
  invalidInstanceId: (message: string) => new ServiceError('InvalidInstanceId', message),
  accessDenied: (message: string) => new ServiceError('AccessDeniedException', message),
  resourceInUse: (message: string) => new ServiceError('ResourceInUseException', message),
  alreadyExists: (message: string) => new ServiceError('AlreadyExistsException', message),
  resourceLimitExceeded: (message: string) => new ServiceError('ResourceLimitExceededException', message),
  internal: (message = 'An internal error occurred. Retry the request; if it persists, contact the operator with the request id.') =>
    new ServiceError('InternalServerError', message, { status: 500 }),
} as const;
