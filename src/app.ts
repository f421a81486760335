import http from 'node:http';
import express from 'express';
import type { Config } from './config';
import { errorHandler, healthRoutes, notFoundHandler } from './http';
import type { Logger } from './logging';
import type { WorkerPool } from './media';
import type { Metrics } from './metrics';

export type AppDeps = {
	config: Readonly<Config>;
	logger: Logger;
	pool: WorkerPool;
	metrics: Metrics;
};

export type App = {
	httpServer: http.Server;
	express: express.Express;
	/** Stops taking connections and closes open ones. Idempotent. */
	close(): Promise<void>;
};

/**
 * Builds the HTTP (and, later, socket.io) side of the node around its
 * dependencies. It never listens: main.ts listens on the configured port,
 * tests on port 0.
 */
export function buildApp(deps: AppDeps): App {
	const logger = deps.logger.child({ module: 'http' });
	const app = express();
	app.disable('x-powered-by');
	app.use(healthRoutes({ pool: deps.pool, metrics: deps.metrics }));
	app.use(notFoundHandler);
	app.use(errorHandler(logger));

	const httpServer = http.createServer(app);
	let closing: Promise<void> | undefined;

	return {
		httpServer,
		express: app,
		close() {
			closing ??= new Promise<void>((resolve) => {
				if (!httpServer.listening) {
					resolve();
					return;
				}
				httpServer.close(() => resolve());
				httpServer.closeAllConnections();
			});
			return closing;
		},
	};
}
