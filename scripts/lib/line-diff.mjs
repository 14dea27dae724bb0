/**
 * A line diff for humans: `-` removed, `+` added, a few lines of context, `@@` between hunks.
 * Longest-common-subsequence based; the API report is a few thousand lines at most.
 */

/**
 * @param {string} before
 * @param {string} after
 * @param {number} [context] unchanged lines shown around each change
 * @returns {string} empty when the texts are equal
 */
export function lineDiff(before, after, context = 3) {
  if (before === after) return "";
  const a = before.split("\n");
  const b = after.split("\n");
  // Trim the common head and tail so the table only spans the changed middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail += 1;
  }
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const table = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i -= 1) {
    for (let j = y.length - 1; j >= 0; j -= 1) {
      table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const ops = a.slice(0, head).map((line) => [" ", line]);
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push([" ", x[i]]);
      i += 1;
      j += 1;
    } else if (i < x.length && (j === y.length || table[i + 1][j] >= table[i][j + 1])) {
      ops.push(["-", x[i]]);
      i += 1;
    } else {
      ops.push(["+", y[j]]);
      j += 1;
    }
  }
  ops.push(...a.slice(a.length - tail).map((line) => [" ", line]));

  const shown = new Set();
  ops.forEach(([kind], index) => {
    if (kind === " ") return;
    for (let k = Math.max(0, index - context); k <= Math.min(ops.length - 1, index + context); k += 1)
      shown.add(k);
  });
  const out = [];
  let previous = -1;
  for (const index of [...shown].sort((p, q) => p - q)) {
    if (previous !== -1 && index !== previous + 1) out.push("@@");
    const [kind, line] = ops[index];
    out.push(`${kind} ${line}`);
    previous = index;
  }
  return out.join("\n");
}
