import { Router } from 'express';
import type { NodeRegistry } from '../cluster';
import type { WorkerPool } from '../media';
import { secretEquals } from '../auth';
import { AppError } from '../errors';
import type { Metrics } from '../metrics';
import { bearerToken } from './auth';

/**
 * GET /healthz: the process is alive (200 while it can answer at all).
 * GET /readyz: the node can take new sessions: 200, or 503 with a reason
 * (`draining`, the workers', or `cluster_unavailable` while a cluster node cannot reach Redis).
 * GET /metrics: Prometheus exposition; public unless metrics.token is set.
 */
export function healthRoutes({ pool, metrics, metricsToken, draining, cluster }: {
	pool: WorkerPool; metrics: Metrics; metricsToken: string | null; draining: () => boolean; cluster?: NodeRegistry;
}): Router {
	const router = Router();

	router.get('/healthz', (_req, res) => {
		res.json({ status: 'ok' });
	});

	router.get('/readyz', (_req, res) => {
		const readiness = pool.readiness();
		const clusterDown = cluster !== undefined && !cluster.available;
		const ready = readiness.ready && !draining() && !clusterDown;
		res.status(ready ? 200 : 503).json({
			status: ready ? 'ready' : 'not_ready',
			reason: draining() ? 'draining' : clusterDown && readiness.ready ? 'cluster_unavailable' : readiness.reason,
			workers: readiness.workers,
		});
	});

	router.get('/metrics', async (req, res, next) => {
		try {
			if (metricsToken !== null && !secretEquals(bearerToken(req) ?? '', metricsToken)) {
				throw new AppError('unauthorized', 'a bearer token is required for /metrics (metrics.token)');
			}
			const body = await metrics.registry.metrics();
			res.type(metrics.registry.contentType).send(body);
		} catch (error) {
			next(error);
		}
	});

	return router;
}
