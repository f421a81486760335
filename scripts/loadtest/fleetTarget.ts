/**
 * Drives several nodes of one fleet as one target: each peer connects to the
 * node `assign` picks (with nearest placement it joins its room there), so a
 * room is split over the nodes as the benchmark says. Each node has one
 * worker; its worker's CPU is read apart, with its subscribers and consumers.
 */
import type { NodeTarget } from './nodeTarget';
import type { PeerSpec } from './scenarios';
import type { LoadTarget } from './target';

/** Round robin within each room: its nth peer goes to node n mod the node count. */
export function roundRobin(nodes: number): (spec: PeerSpec) => number {
	const seen = new Map<string, number>();
	return (spec) => {
		const n = seen.get(spec.room) ?? 0;
		seen.set(spec.room, n + 1);
		return n % nodes;
	};
}

export class FleetTarget implements LoadTarget {
	readonly description: string;
	readonly #targets: readonly NodeTarget[];
	readonly #assign: (spec: PeerSpec) => number;
	readonly #subscribers: number[];

	constructor(targets: readonly NodeTarget[], assign: (spec: PeerSpec) => number) {
		if (targets.some((target) => target.workerPids().length !== 1)) {
			throw new Error('a fleet target needs one worker a node: its figures are per node');
		}
		this.#targets = targets;
		this.#assign = assign;
		this.#subscribers = targets.map(() => 0);
		this.description = `${targets.length} node${targets.length === 1 ? '' : 's'}: ${targets.map((t) => t.description).join('; ')}`;
	}

	async addPeer(spec: PeerSpec): Promise<void> {
		const i = this.#assign(spec);
		await this.#targets[i]!.addPeer(spec);
		this.#subscribers[i]! += spec.subscribe ? 1 : 0;
	}

	consumers(): number {
		return this.#targets.reduce((sum, target) => sum + target.consumers(), 0);
	}

	workerPids(): number[] {
		return this.#targets.flatMap((target) => target.workerPids());
	}

	perWorker(): { subscribers: number; consumers: number }[] {
		return this.#targets.map((target, i) => ({ subscribers: this.#subscribers[i]!, consumers: target.consumers() }));
	}

	async close(): Promise<void> {
		await Promise.all(this.#targets.map((target) => target.close()));
	}
}
