/** The results table. */

export const mb = (bytes) =>
  bytes === undefined || Number.isNaN(bytes) ? "n/a" : `${(bytes / 1048576).toFixed(1)} MB`;

const ratio = (value) => (value === undefined ? "" : `${value.toFixed(2)}×`);

/** A Markdown table (readable as plain text too): one row per server and workload. */
export function formatTable(rows, workloads) {
  const header = [
    "workload",
    "server",
    "req/s",
    "÷ SDK",
    "÷ raw",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "CPU cores",
    "peak RSS",
    "errors",
  ];
  const lines = rows.map((row) => [
    workloads[row.workload].title,
    row.label,
    Math.round(row.rps).toLocaleString("en-US"),
    ratio(row.vsSdk),
    ratio(row.vsRaw),
    String(row.p50),
    String(row.p99),
    row.cpuMicrosPerRequest.toFixed(0),
    row.cpuCores.toFixed(2),
    mb(row.peakRss),
    row.errors + row.non2xx + row.timeouts > 0
      ? `!! ${row.errors} err / ${row.non2xx} non-2xx / ${row.timeouts} t/o`
      : "0",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column].length)),
  );
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9]);
  const format = (cells) =>
    `| ${cells.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(" | ")} |`;
  const rule = `| ${widths.map((width, column) => (numeric.has(column) ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join(" | ")} |`;
  return [format(header), rule, ...lines.map(format)].join("\n");
}
