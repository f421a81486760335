/** The value of the sample line `series value` in Prometheus exposition text, e.g. `name{label="x"}`. */
export function metricValue(text: string, series: string): number | undefined {
	const line = text.split('\n').find((l) => l.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
