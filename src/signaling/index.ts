export * from './protocol';
export type { SignalingEvents } from './Session';
export { createSignalingServer, type SignalingDeps, type SignalingServer } from './SignalingServer';
