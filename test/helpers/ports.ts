import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Finds `count` consecutive ports free for both UDP and TCP on 127.0.0.1.
 * WebRtcServer ports cannot be 0, and jest runs files in parallel, so each
 * jest worker searches its own range (from JEST_WORKER_ID) and probes it.
 */
export async function findFreePorts(count: number): Promise<number> {
	const workerId = Number(process.env.JEST_WORKER_ID ?? '1');
	const rangeStart = 42000 + ((workerId - 1) % 8) * 2000;
	const offset = Math.floor(Math.random() * 1500);
	for (let base = rangeStart + offset; base < rangeStart + 2000 - count; base += count) {
		let free = true;
		for (let port = base; port < base + count && free; port++) {
			free = (await udpFree(port)) && (await tcpFree(port));
		}
		if (free) {
			return base;
		}
	}
	throw new Error(`no ${count} consecutive free ports in ${rangeStart}-${rangeStart + 1999}`);
}

function udpFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = dgram.createSocket('udp4');
		socket.once('error', () => resolve(false));
		socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
	});
}

function tcpFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

export { udpFree, tcpFree };

/** A TCP port of 127.0.0.1 the system says is free now (for a child's HTTP server). */
export async function freeTcpPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}
