export { ERROR_CODES, isErrorCode, type ErrorCode } from './codes';
export { AppError, InvalidStateError, NotFoundError, ValidationError, toWire, type WireError } from './AppError';
