import dgram from 'node:dgram';
import net from 'node:net';

const RANGE_FROM = 4000;
const RANGE_SIZE = 750;

/**
 * The ports of 4000-9999 that fetch (undici, in node and in the tests) and
 * chromium refuse to connect to, the Fetch standard's "bad ports": a node
 * given one listens there, and every request to it fails ("fetch failed").
 */
const BAD_PORTS = new Set([4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697]);

/** Whether fetch and browsers refuse `port` (BAD_PORTS). */
export function badPort(port: number): boolean {
	return BAD_PORTS.has(port);
}

/**
 * Finds `count` consecutive ports free for both UDP and TCP on 127.0.0.1.
 * WebRtcServer ports cannot be 0, and jest runs files in parallel, so each
 * jest worker searches its own range (from JEST_WORKER_ID) and probes it.
 *
 * The ranges lie in 4000-9999, below both the kernel's ephemeral ports
 * (32768-60999: every outgoing connection and every listen(0) takes one, and
 * one taken between the probe and the child's bind failed a restart test with
 * EADDRINUSE) and mediasoup's default RTC ports (10000-59999, which pipe
 * transports draw from). A range with a bad port (BAD_PORTS) is passed over.
 */
export async function findFreePorts(count: number): Promise<number> {
	const workerId = Number(process.env.JEST_WORKER_ID ?? '1');
	const rangeStart = RANGE_FROM + ((workerId - 1) % 8) * RANGE_SIZE;
	const bases = Math.floor(RANGE_SIZE / count);
	const first = Math.floor(Math.random() * bases);
	// From a random start, round the range once.
	for (let i = 0; i < bases; i++) {
		const base = rangeStart + ((first + i) % bases) * count;
		let free = true;
		for (let port = base; port < base + count && free; port++) {
			free = !badPort(port);
		}
		for (let port = base; port < base + count && free; port++) {
			free = (await udpFree(port)) && (await tcpFree(port));
		}
		if (free) {
			return base;
		}
	}
	throw new Error(`no ${count} consecutive free ports in ${rangeStart}-${rangeStart + RANGE_SIZE - 1}`);
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
