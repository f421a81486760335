export { TypedEmitter, type EventMap } from './TypedEmitter';
