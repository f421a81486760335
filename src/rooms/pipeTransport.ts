import type { ClusterConfig } from '../config';
import { AppError } from '../errors';
import type { ms } from '../media';
import type { PipeEnd } from './pipeMessages';

/** Where a node's pipes to other nodes listen (cluster.pipe*). */
export type PipeAddress = Pick<ClusterConfig, 'pipeListenIp' | 'pipeAnnouncedAddress' | 'pipeMinPort' | 'pipeMaxPort'>;

/** Ports tried for one pipe before giving up (another process, or another pipe, may hold one). */
const PORT_TRIES = 20;

/**
 * One end of a pipe between nodes, on `router`: on cluster.pipeListenIp, on a
 * free port of the pipe range, with SRTP, and with RTX and NACK (the network
 * between nodes can lose packets). @throws service_unavailable when no port is free
 */
export async function createPipeTransport(router: ms.Router, address: PipeAddress, appData: { nodeId: string; direction: 'in' | 'out' }): Promise<ms.PipeTransport> {
	const { pipeListenIp, pipeAnnouncedAddress, pipeMinPort, pipeMaxPort } = address;
	let lastError: unknown;
	for (let attempt = 0; attempt < PORT_TRIES; attempt++) {
		const port = pipeMinPort + Math.floor(Math.random() * (pipeMaxPort - pipeMinPort + 1));
		try {
			return await router.createPipeTransport({
				listenIp: { ip: pipeListenIp, announcedIp: pipeAnnouncedAddress ?? undefined },
				port, enableRtx: true, enableSrtp: true, appData: { ...appData, pipe: 'node' },
			});
		} catch (error) {
			// The port is taken (or the router closed: the next try says so again).
			lastError = error;
			if (router.closed) {
				break;
			}
		}
	}
	throw new AppError('service_unavailable', `no pipe port free in ${pipeMinPort}-${pipeMaxPort}`, { cause: lastError });
}

/** What the other node needs to reach this end: its address, port and SRTP key. */
export function pipeEndOf(address: PipeAddress, transport: ms.PipeTransport): PipeEnd {
	return {
		ip: address.pipeAnnouncedAddress ?? transport.tuple.localIp,
		port: transport.tuple.localPort,
		srtpParameters: transport.srtpParameters as PipeEnd['srtpParameters'],
	};
}
