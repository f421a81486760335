export * from './protocol';
export { createSignalingServer, type SignalingDeps, type SignalingServer } from './SignalingServer';
