/**
 * Grid view and speaker view. Grid view sizes every tile alike to fill the
 * grid (layout.ts). Speaker view shows one tile large (`featured`) and the
 * others as a strip of small tiles under it; the viewport reporter
 * (viewport.ts) tells the server each video's new size, so its policy sends
 * the large tile a high layer and the strip low ones by itself.
 */
import { fitTiles } from './layout';

export type View = 'grid' | 'speaker';

/** What speaker view needs to know of a tile. */
export type TileFacts = { key: string; local: boolean; screen: boolean; pinned: boolean };

/**
 * The tile speaker view shows large: a pinned one, else a screen share, else
 * the last remote participant who spoke, else the first remote tile; your own
 * only when you are alone. Undefined: no tiles.
 */
export function featuredTile(tiles: readonly TileFacts[], lastSpeaker: string | null): string | undefined {
	const remote = tiles.filter((t) => !t.local);
	return (remote.find((t) => t.pinned) ?? remote.find((t) => t.screen) ?? remote.find((t) => t.key === lastSpeaker) ?? remote[0] ?? tiles[0])?.key;
}

export type StripFit = { tileWidth: number; tileHeight: number; featuredHeight: number; scroll: boolean };

/**
 * Speaker view's geometry in a `width` x `height` box: the strip's tiles
 * (16:9, a fifth of the height, between 64 and 140 px high, narrower to put
 * `others` of them in one row, down to 96 px wide, then wrapping and
 * scrolling), and the large tile's height, the rest.
 */
export function fitStrip(others: number, width: number, height: number, gap = 10): StripFit {
	if (others <= 0 || width <= 0 || height <= 0) {
		return { tileWidth: 0, tileHeight: 0, featuredHeight: Math.max(0, Math.floor(height)), scroll: false };
	}
	let tileHeight = Math.min(140, Math.max(64, height * 0.2));
	let tileWidth = (tileHeight * 16) / 9;
	const inOneRow = (width - (others - 1) * gap) / others;
	if (inOneRow < tileWidth) {
		tileWidth = Math.max(96, inOneRow);
		tileHeight = (tileWidth * 9) / 16;
	}
	const scroll = inOneRow < 96;
	return {
		tileWidth: Math.floor(tileWidth), tileHeight: Math.floor(tileHeight),
		featuredHeight: Math.max(0, Math.floor(height - tileHeight - gap)), scroll,
	};
}

/** The grid's tiles laid out for the view of the moment; Grid.ts calls apply() whenever they may need it. */
export class TileLayout {
	view: View = 'grid';
	/** The last remote participant who spoke. */
	#lastSpeaker: string | null = null;

	constructor(private readonly root: HTMLElement, private readonly tiles: ReadonlyMap<string, HTMLElement>) {}

	/** The active speaker changed: true when speaker view would now feature another tile. */
	spoke(peerId: string | null): boolean {
		const tile = peerId === null ? undefined : this.tiles.get(peerId);
		if (!tile || tile.classList.contains('local') || peerId === this.#lastSpeaker) {
			return false;
		}
		this.#lastSpeaker = peerId;
		return this.view === 'speaker';
	}

	apply(): void {
		const { root, tiles } = this;
		const style = getComputedStyle(root);
		const width = root.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
		const height = root.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
		const gap = parseFloat(style.columnGap) || 10;
		const facts = [...tiles].map(([key, tile]): TileFacts => ({
			key, local: tile.classList.contains('local'), screen: tile.classList.contains('screen'), pinned: tile.classList.contains('pinned'),
		}));
		const featured = this.view === 'speaker' && tiles.size > 1 ? featuredTile(facts, this.#lastSpeaker) : undefined;
		for (const [key, tile] of tiles) {
			tile.classList.toggle('featured', key === featured);
		}
		root.classList.toggle('speaker-view', featured !== undefined);
		root.dataset.view = this.view;
		root.dataset.count = String(tiles.size);
		const fit = featured === undefined ? fitTiles(tiles.size, width, height, { gap }) : fitStrip(tiles.size - 1, width, height, gap);
		root.style.setProperty('--tile-w', `${fit.tileWidth}px`);
		root.style.setProperty('--tile-h', `${fit.tileHeight}px`);
		root.style.setProperty('--featured-h', `${'featuredHeight' in fit ? fit.featuredHeight : 0}px`);
		root.classList.toggle('scroll', fit.scroll);
	}
}
