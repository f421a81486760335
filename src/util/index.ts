export { systemClock, type Clock, type Timer } from './clock';
export { TypedEmitter, type EventMap } from './TypedEmitter';
export { throttle, type Throttled } from './throttle';
export { SerialQueue } from './SerialQueue';
export { displayText, withoutUnsafe } from './displayText';
export { describeUrl } from './describeUrl';
