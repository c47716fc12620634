// Rounding of positions and lengths to a block size, shared by the layers
// (log, streams) that turn arbitrary byte ranges into aligned direct I/O.

export function alignDown(value: number, unit: number): number {
  return value - (value % unit);
}

export function alignUp(value: number, unit: number): number {
  const rest = value % unit;
  return rest === 0 ? value : value + unit - rest;
}
