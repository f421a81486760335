/**
 * Hosts for the scaling benchmark: network namespaces on one machine, each
 * with its own network stack (addresses, ports, routes), joined by veth pairs
 * to a bridge in the root namespace. Node i lives in namespace `syscPID-i` at
 * 198.18.K.(10 + i); the bridge is 198.18.K.1, where the benchmark's Redis,
 * PostgreSQL, load generator and sink listen. 198.18.0.0/15 is the range
 * RFC 2544 sets aside for benchmarks: no traffic leaves the machine.
 *
 * Needs root (ip netns, ip link). Everything is named after this process's
 * pid, so that a run removes what it made, and what a killed run left behind
 * (its pid is dead) is removed by the next run before it starts.
 */
import { execFileSync } from 'node:child_process';
import { alive } from '../../test/helpers/processes';

const PREFIX = 'sysc';
const NAMESPACE = /^sysc(\d+)-\d+$/;
const LINK = /^sysc(\d+)[bh]\d*$/;

export type Host = {
	/** The namespace's name: `ip netns exec NAME ...` runs a command on this host. */
	readonly namespace: string;
	/** Its address on the bridge. */
	readonly ip: string;
};

function ip(args: string[]): string {
	return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Namespaces and links of earlier runs whose process is dead; returns their names. */
export function removeStale(): string[] {
	const removed: string[] = [];
	const stale = (pattern: RegExp, name: string) => {
		const match = pattern.exec(name);
		return match !== null && Number(match[1]) !== process.pid && !alive(Number(match[1]));
	};
	for (const line of ip(['netns', 'list']).split('\n')) {
		const name = line.split(' ')[0] ?? '';
		if (stale(NAMESPACE, name)) {
			ip(['netns', 'delete', name]);
			removed.push(name);
		}
	}
	for (const line of ip(['-o', 'link', 'show']).split('\n')) {
		const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
		if (stale(LINK, name)) {
			ip(['link', 'delete', name]);
			removed.push(name);
		}
	}
	return removed;
}

/** A /24 of 198.18.0.0/15 that no interface of this machine uses. */
function freeSubnet(): number {
	const used = ip(['-o', '-4', 'addr', 'show']);
	for (let k = 1 + (process.pid % 200); k < 255; k++) {
		if (!used.includes(` 198.18.${k}.`)) {
			return k;
		}
	}
	throw new Error('no free /24 of 198.18.0.0/16 for the benchmark\'s bridge');
}

export class Hosts {
	readonly hosts: readonly Host[];
	/** The bridge's address: the root namespace, as the hosts see it. */
	readonly rootIp: string;
	readonly #bridge: string;
	#removed = false;

	private constructor(hosts: Host[], rootIp: string, bridge: string) {
		this.hosts = hosts;
		this.rootIp = rootIp;
		this.#bridge = bridge;
	}

	/** `count` hosts on a fresh bridge. On a failure, what was made is removed before it throws. */
	static create(count: number): Hosts {
		if (process.getuid?.() !== 0) {
			throw new Error('network namespaces need root: run the benchmark as root');
		}
		const subnet = freeSubnet();
		const bridge = `${PREFIX}${process.pid}b`;
		const hosts = Array.from({ length: count }, (_, i) => ({ namespace: `${PREFIX}${process.pid}-${i + 1}`, ip: `198.18.${subnet}.${10 + i + 1}` }));
		const made = new Hosts(hosts, `198.18.${subnet}.1`, bridge);
		try {
			ip(['link', 'add', bridge, 'type', 'bridge']);
			ip(['addr', 'add', `${made.rootIp}/24`, 'dev', bridge]);
			ip(['link', 'set', bridge, 'up']);
			hosts.forEach((host, i) => {
				const hostEnd = `${PREFIX}${process.pid}h${i + 1}`;
				ip(['netns', 'add', host.namespace]);
				ip(['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace]);
				ip(['link', 'set', hostEnd, 'master', bridge, 'up']);
				const inside = (...args: string[]) => ip(['-n', host.namespace, ...args]);
				inside('link', 'set', 'lo', 'up');
				inside('addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
				inside('link', 'set', 'eth0', 'up');
			});
		} catch (error) {
			made.remove();
			throw error;
		}
		return made;
	}

	/** Removes the namespaces and links (idempotent, synchronous: safe in an exit handler). Stop what runs in them first. */
	remove(): void {
		if (this.#removed) {
			return;
		}
		this.#removed = true;
		// NOTE: the host ends first: deleting a veth end deletes its peer, whereas a deleted namespace
		// lingers (and its veth pairs with it) while anything still holds it.
		const links = [...this.hosts.map((_, i) => `${PREFIX}${process.pid}h${i + 1}`), this.#bridge];
		for (const link of links) {
			try {
				ip(['link', 'delete', link]);
			} catch {
				// Not made.
			}
		}
		for (const host of this.hosts) {
			try {
				ip(['netns', 'delete', host.namespace]);
			} catch {
				// Not made.
			}
		}
	}

	/** What is left of this run (namespaces and links): empty once removed. */
	static leftBy(pid: number): string[] {
		const mine = (pattern: RegExp, name: string) => Number(pattern.exec(name)?.[1]) === pid;
		const namespaces = ip(['netns', 'list']).split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => mine(NAMESPACE, name));
		const links = ip(['-o', 'link', 'show']).split('\n').map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '').filter((name) => mine(LINK, name));
		return [...namespaces, ...links];
	}
}
