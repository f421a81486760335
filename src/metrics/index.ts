export { CapacityEstimator, type CapacitySample } from './CapacityEstimator';
export { createMetrics, type Metrics, type MetricsDeps } from './createMetrics';
export { StatsSampler } from './StatsSampler';
