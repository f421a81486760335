/** The grid's geometry: pure, so it is unit tested without a browser (test/unit/webLayout.test.ts). */

export type GridFit = { columns: number; tileWidth: number; tileHeight: number; aspect: number; scroll: boolean };

export type FitOptions = {
	gap?: number;
	/**
	 * Tile shapes (width / height) to try; the one giving the largest tiles
	 * wins. Default: 16:9 on a landscape box (video's own shape, nothing
	 * cropped), also 4:3 and square on a portrait one (a phone held upright).
	 */
	aspects?: number[];
	/** Below this width tiles stop shrinking and the box scrolls instead (a phone in a big room). */
	minTileWidth?: number;
};

/**
 * The largest tiles that fit `count` of them in a `width` x `height` box with
 * `gap` between them, trying every column count and every tile shape (video
 * fills its tile with object-fit: cover).
 */
export function fitTiles(count: number, width: number, height: number, options: FitOptions = {}): GridFit {
	const { gap = 10, minTileWidth = 150 } = options;
	const aspects = options.aspects ?? (width >= height ? [16 / 9] : [16 / 9, 4 / 3, 1]);
	const n = Math.max(1, count);
	const first = aspects[0] ?? 16 / 9;
	if (width <= 0 || height <= 0) {
		return { columns: 1, tileWidth: 0, tileHeight: 0, aspect: first, scroll: false };
	}
	let best = { columns: 1, tileWidth: 0, aspect: first, area: 0 };
	for (const aspect of aspects) {
		for (let columns = 1; columns <= n; columns++) {
			const rows = Math.ceil(n / columns);
			const byWidth = (width - (columns - 1) * gap) / columns;
			const byHeight = ((height - (rows - 1) * gap) / rows) * aspect;
			const tileWidth = Math.min(byWidth, byHeight);
			const area = (tileWidth * tileWidth) / aspect;
			// NOTE: a near tie keeps the earlier (wider) shape: video is 16:9.
			if (area > best.area * 1.05) {
				best = { columns, tileWidth, aspect, area };
			}
		}
	}
	if (best.tileWidth >= Math.min(minTileWidth, width)) {
		const tileWidth = Math.floor(best.tileWidth);
		return { columns: best.columns, tileWidth, tileHeight: Math.floor(tileWidth / best.aspect), aspect: best.aspect, scroll: false };
	}
	// Too many to fit: as many 16:9 columns of the smallest tile as the width takes, and scroll.
	const columns = Math.max(1, Math.min(n, Math.floor((width + gap) / (minTileWidth + gap))));
	const tileWidth = Math.floor((width - (columns - 1) * gap) / columns);
	return { columns, tileWidth, tileHeight: Math.floor(tileWidth / first), aspect: first, scroll: true };
}
