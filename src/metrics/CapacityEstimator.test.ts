import { CapacityEstimator } from './CapacityEstimator';

describe('CapacityEstimator', () => {
	test('nothing to say before a consumer was seen', () => {
		const estimator = new CapacityEstimator();
		estimator.add({ consumers: 0, cpu: 0.01 });
		expect(estimator.cpuPerConsumer()).toBeUndefined();
		expect(estimator.headroom([{ consumers: 0, cpu: 0.01 }], 0.8)).toBeUndefined();
	});

	test('fits the per-consumer cost apart from the idle cost', () => {
		const estimator = new CapacityEstimator();
		// 1 % idle, 0.2 % of a core per consumer.
		for (const consumers of [0, 20, 50, 100, 150, 200]) {
			estimator.add({ consumers, cpu: 0.01 + 0.002 * consumers });
		}
		expect(estimator.cpuPerConsumer()).toBeCloseTo(0.002, 6);
		// One worker at 200 consumers (41 %): (0.8 - 0.41) / 0.002 = 195 more.
		expect(estimator.headroom([{ consumers: 200, cpu: 0.41 }], 0.8)).toBe(195);
	});

	test('once it has learnt the cost, the headroom falls as consumers are added', () => {
		const estimator = new CapacityEstimator();
		for (const consumers of [0, 5, 10, 15, 20]) {
			estimator.add({ consumers, cpu: 0.02 + 0.0025 * consumers });
		}
		const headrooms: number[] = [];
		for (const consumers of [40, 80, 120, 160]) {
			const cpu = 0.02 + 0.0025 * consumers + (consumers % 3) * 0.001;
			estimator.add({ consumers, cpu });
			headrooms.push(estimator.headroom([{ consumers, cpu }], 0.8)!);
		}
		for (let i = 1; i < headrooms.length; i++) {
			expect(headrooms[i]).toBeLessThan(headrooms[i - 1]!);
		}
	});

	test('with no spread to fit, the busiest ratio bounds the cost; a saturated worker has no headroom', () => {
		const estimator = new CapacityEstimator();
		estimator.add({ consumers: 100, cpu: 0.5 });
		expect(estimator.cpuPerConsumer()).toBeCloseTo(0.005);
		expect(estimator.headroom([{ consumers: 100, cpu: 0.5 }, { consumers: 100, cpu: 0.95 }], 0.8)).toBe(60);
	});
});
