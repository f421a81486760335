import type { WorkerPool } from '../../src/media';

/** What every worker of the pool holds: router ids, and WebRtcTransports on its WebRtcServer. */
export async function poolObjects(pool: WorkerPool): Promise<{ routers: number; webRtcTransports: number; consumers: number; producers: number; transports: number }> {
	let routers = 0;
	let webRtcTransports = 0;
	for (const worker of pool.workers) {
		const dump = await worker.worker.dump() as unknown as { routerIds: string[] };
		routers += dump.routerIds.length;
		const server = await worker.webRtcServer.dump() as unknown as { webRtcTransportIds: string[] };
		webRtcTransports += server.webRtcTransportIds.length;
	}
	const load = pool.workers.reduce((sum, w) => ({
		consumers: sum.consumers + w.load.consumers,
		producers: sum.producers + w.load.producers,
		transports: sum.transports + w.load.transports,
	}), { consumers: 0, producers: 0, transports: 0 });
	return { routers, webRtcTransports, ...load };
}

/** The ids of the WebRtcTransports every worker's WebRtcServer holds now. */
export async function webRtcTransportIds(pool: WorkerPool): Promise<Set<string>> {
	const ids = new Set<string>();
	for (const worker of pool.workers) {
		const server = await worker.webRtcServer.dump() as unknown as { webRtcTransportIds: string[] };
		for (const id of server.webRtcTransportIds) {
			ids.add(id);
		}
	}
	return ids;
}
