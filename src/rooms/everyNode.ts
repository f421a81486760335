import type { z } from 'zod';
import type { Bus, NodeRegistry } from '../cluster';

/** A node's way to the others: the bus, and the registry of live nodes. */
export type Fleet = { bus: Bus; cluster: NodeRegistry };

/**
 * Asks every live node of the fleet (this one too: the bus answers it
 * locally) `method`, in parallel. A node that does not answer is named in
 * `unreachable`, not guessed at.
 */
export async function askEveryNode<S extends z.ZodType>(
	fleet: Fleet, method: string, body: unknown, result: S,
): Promise<{ answers: [node: string, answer: z.infer<S>][]; unreachable: string[] }> {
	const nodes = fleet.cluster.nodes.map((node) => node.id);
	const settled = await Promise.allSettled(nodes.map((id) => fleet.bus.request(id, method, body, result)));
	return {
		answers: settled.flatMap((answer, i) => (answer.status === 'fulfilled' ? [[nodes[i]!, answer.value as z.infer<S>] as [string, z.infer<S>]] : [])),
		unreachable: nodes.filter((_id, i) => settled[i]!.status === 'rejected'),
	};
}
