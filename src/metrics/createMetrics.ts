import client from 'prom-client';
import type { WorkerPool } from '../media';

export type Metrics = {
	registry: client.Registry;
	/** Stops listening to the objects it watches. */
	close(): void;
};

/**
 * The node's Prometheus registry. It reads state when scraped and counts
 * events from observers; nothing on a hot path calls into it. Names carry the
 * `switchyard_` prefix and base units; no label takes a room, peer or call id.
 */
export function createMetrics({ pool }: { pool: WorkerPool }): Metrics {
	const registry = new client.Registry();
	client.collectDefaultMetrics({ register: registry });

	new client.Gauge({
		name: 'switchyard_workers',
		help: 'Live mediasoup workers.',
		registers: [registry],
		collect() {
			this.set(pool.workers.length);
		},
	});
	const restarts = new client.Counter({
		name: 'switchyard_worker_restarts_total',
		help: 'Replacement workers started after a worker died.',
		registers: [registry],
	});
	const deaths = new client.Counter({
		name: 'switchyard_worker_deaths_total',
		help: 'mediasoup workers that died unexpectedly.',
		registers: [registry],
	});

	const onReplaced = () => restarts.inc();
	const onDied = () => deaths.inc();
	pool.observer.on('workerReplaced', onReplaced);
	pool.observer.on('workerDied', onDied);

	return {
		registry,
		close() {
			pool.observer.off('workerReplaced', onReplaced);
			pool.observer.off('workerDied', onDied);
		},
	};
}
