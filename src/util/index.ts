export { TypedEmitter, type EventMap } from './TypedEmitter';
export { throttle } from './throttle';
export { SerialQueue } from './SerialQueue';
export { displayText, withoutUnsafe } from './displayText';
