/** One figure of `npm run chaos`: what was measured, the target, whether it holds. */
export interface Figure {
  name: string;
  value: number | string;
  target: string;
  holds: boolean;
}
/** One chaos case: starts what it needs (its own stack in a temp dir), runs, and reports its figures. */
export interface ChaosCase {
  name: string;
  run(options: { quick: boolean; log: (line: string) => void }): Promise<Figure[]>;
}
