export { CapacityEstimator, type CapacitySample } from './CapacityEstimator';
export { createMetrics, type Metrics, type MetricsDeps } from './createMetrics';
export { PipeSampler, type PipeSource } from './PipeSampler';
export { StatsSampler } from './StatsSampler';
