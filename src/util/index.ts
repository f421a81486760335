export { TypedEmitter, type EventMap } from './TypedEmitter';
export { throttle } from './throttle';
