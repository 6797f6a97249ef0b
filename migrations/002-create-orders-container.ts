/** A new container for orders, partitioned by tenant like customers. Container steps only: no documents change. */
import { defineMigration } from '../common/migration';

export default defineMigration({
  id: '002-create-orders-container',
  description: 'Create the orders container, partitioned by /tenantId',
  database: 'demo',
  container: {
    name: 'orders',
    create: { partitionKey: '/tenantId', throughput: 400 },
  },
});
