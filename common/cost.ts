/**
 * The cost of a run in request units, from the plan's measurements (activities/cosmos/plan.ts): what each part of the
 * run reads and writes, and so the total, the hours it takes at the RU budget, and a price at a rate the user gives.
 * Pure arithmetic (common/ is imported by workflow code). The model, and what it leaves out, is stated in
 * docs/migrations.md ("What a run costs").
 */

export interface CostInput {
  documentsToMigrate: number;
  totalDocuments: number;
  /** RU per document read by the migration's query, measured on the sample. */
  ruPerRead: number;
  /** RU per replace, measured by a probe write of the sample's average size. */
  ruPerWrite: number;
  /** The run keeps pre-images (one upsert per replaced document, before it): on by default for an `up` without down(). */
  preimages: boolean;
  /** Documents verification reads one by one (the run's verifySampleSize). */
  verifySampleSize: number;
  ruBudget?: number;
}

export interface PlanCost {
  /** The migration's query: each candidate read once. */
  readRu: number;
  /** One replace per document to migrate. */
  writeRu: number;
  /** One pre-image upsert per document to migrate (0 without pre-images). A pre-image is about the document's size. */
  preimageRu: number;
  preimages: boolean;
  /**
   * Verification: a count by version over the whole container (priced as a read of every document, an upper bound:
   * an aggregate returns no documents), the remaining-candidates query, and the sample's point reads (1 RU per KB).
   */
  verificationRu: number;
  totalRu: number;
  /** At the RU budget: RU per hour the run consumes while it runs (the budget × 3600), and the hours it takes. */
  ruPerHourAtBudget?: number;
  hoursAtBudget?: number;
}

const round = (value: number) => Math.round(value);

export function planCost(input: CostInput): PlanCost {
  const n = input.documentsToMigrate;
  const readRu = n * input.ruPerRead;
  const writeRu = n * input.ruPerWrite;
  const preimageRu = input.preimages ? n * input.ruPerWrite : 0;
  const verificationRu = input.totalDocuments * input.ruPerRead + input.verifySampleSize * Math.max(1, input.ruPerRead);
  const totalRu = readRu + writeRu + preimageRu + verificationRu;
  const budget = input.ruBudget && input.ruBudget > 0 ? input.ruBudget : undefined;
  return {
    readRu: round(readRu),
    writeRu: round(writeRu),
    preimageRu: round(preimageRu),
    preimages: input.preimages,
    verificationRu: round(verificationRu),
    totalRu: round(totalRu),
    ...(budget
      ? { ruPerHourAtBudget: budget * 3600, hoursAtBudget: Math.round((totalRu / (budget * 3600)) * 100) / 100 }
      : {}),
  };
}

/** A price: RU consumed × price per million RU (serverless billing; see docs/migrations.md for provisioned). */
export function priceOf(totalRu: number, perMillionRu: number): number {
  return Math.round((totalRu / 1_000_000) * perMillionRu * 100) / 100;
}

/** What rewriting every document does besides changing it (docs/migrations.md "Side effects of a rewrite"). */
export const REWRITE_SIDE_EFFECTS = [
  'change feed: every migrated document appears again, once per write (pre-images go to their own container)',
  '_ts: moves to the time of the migration for every migrated document (queries and TTL that read _ts see it)',
  'TTL: a document with a time to live starts its countdown again from the migration write',
  '_etag: changes, so an application holding an old _etag gets a 412 on its next conditional write',
];
