import { Router } from 'express';
import type { AccountService } from '../accounts';
import type { NodeRegistry } from '../cluster';
import { AppError } from '../errors';
import { bearerToken } from './auth';

/**
 * GET /api/admin/cluster (admin token): the fleet as this node sees it in the
 * registry, this node included; `{ nodes: [] , available: false }` while Redis
 * is away. 404 on a node that runs alone (no cluster.redisUrl).
 */
export function clusterRoutes({ accounts, cluster }: { accounts: AccountService; cluster: NodeRegistry | undefined }): Router {
	const router = Router();
	router.get('/api/admin/cluster', (req, res) => {
		const token = bearerToken(req);
		if (!token || !accounts.isAdminToken(token)) {
			throw new AppError('unauthorized', 'the admin token is required');
		}
		if (!cluster) {
			throw new AppError('not_found', 'this node runs alone (no cluster.redisUrl)');
		}
		res.json({ self: cluster.nodeId, available: cluster.available, nodes: cluster.available ? cluster.nodes : [] });
	});
	return router;
}
