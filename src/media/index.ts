export { MediaWorker, STREAMS_PER_CORE_ESTIMATE, type WorkerLoad } from './MediaWorker';
export { WorkerPool, resolveWorkerCount, type Readiness, type SlotState, type WorkerPoolEvents, type WorkerPoolOptions } from './WorkerPool';
export { mediasoup, type ms } from './mediasoup';
export { MEDIA_CODECS } from './codecs';
export { fromMediasoupError } from './errors';
export { rtpCapabilities, rtpParameters } from './rtpSchemas';
export { isPrivateAddress, natWarning, turnServers, type IceServer } from './network';
