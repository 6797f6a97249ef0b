/**
 * The runbook's custom search attributes (section 8 of the architecture): what the Temporal UI and
 * `temporal workflow list --query` filter on. The dev server has none by default, so the launcher and the tests
 * register exactly these.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const MIGRATION_ID = defineSearchAttributeKey('MigrationId', SearchAttributeType.KEYWORD);
export const MIGRATION_PHASE = defineSearchAttributeKey('MigrationPhase', SearchAttributeType.KEYWORD);
export const COSMOS_CONTAINER = defineSearchAttributeKey('CosmosContainer', SearchAttributeType.KEYWORD);

export const RUNBOOK_SEARCH_ATTRIBUTES = [MIGRATION_ID, MIGRATION_PHASE, COSMOS_CONTAINER] as const;

/** `--search-attribute Name=Keyword` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return RUNBOOK_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}
