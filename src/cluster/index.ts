export { NodeRegistry, nodeRun, parseRun } from './NodeRegistry';
export { NODE_RECORD_VERSION, NODE_STATES, nodeRecordSchema, type NodeRecord, type NodeState, type NodeStatus } from './nodeRecord';
export { clusterUnavailable, createRedis } from './redis';
export { memoryLimiters, redisLimiters, type LimiterFactory } from './limiters';
export { Bus } from './Bus';
export { nodeIdSchema } from './busMessage';
