/**
 * Connection quality per remote participant (docs/web-client.md): the node's
 * `consumer.quality` (good, fair or poor) as signal bars on the tile, with
 * `data-quality` and "Connection: poor" as its label.
 */
import type { ServerEventData } from '../../signaling/protocol';
import type { Signaling } from './signaling';

export type Quality = ServerEventData<'consumer.quality'>['quality'];

const RANK: Record<Quality, number> = { poor: 0, fair: 1, good: 2 };

/** Shows the worst of a tile's tracks' qualities (none reported yet: no mark). */
export function showQuality(tile: HTMLElement, qualities: (Quality | undefined)[]): void {
	const known = qualities.filter((q): q is Quality => q !== undefined);
	const mark = tile.querySelector<HTMLElement>('.quality');
	if (known.length === 0) {
		delete tile.dataset.quality;
		if (mark) {
			mark.hidden = true;
		}
		return;
	}
	const worst = known.reduce((a, b) => (RANK[b] < RANK[a] ? b : a));
	tile.dataset.quality = worst;
	if (mark) {
		mark.hidden = false;
		mark.title = `Connection: ${worst}`;
		mark.setAttribute('aria-label', `Connection: ${worst}`);
	}
}

/** Every `consumer.quality` the node sends goes to the grid. */
export function wireQuality(signaling: Signaling, grid: { setQuality(consumerId: string, quality: Quality): void }): void {
	signaling.on('consumer.quality', ({ consumerId, quality }) => grid.setQuality(consumerId, quality));
}
