/**
 * The tables a backup's views read in databases a restore does not bring, as `SHOW CREATE VIEW`
 * writes a view: every table qualified, its columns as `db`.`table`.`column`.
 */
import { viewSourcesOutside } from '../../../drivers/mysql/logical/target-view-sources';

describe('viewSourcesOutside', () => {
  it('names the tables of other databases a view reads in FROM and JOIN, not its columns, nor its own database\'s tables', () => {
    // Prepare
    const statements = [
      'CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v_cross` AS select `p`.`t`.`id` AS `id` from `p`.`t`',
      'CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v_join` AS select `a`.`id` AS `id` from (`reports`.`a` join `sales`.`orders` `o` on(`o`.`id` = `a`.`id`)) where `a`.`id` in (select `x`.`id` from `we``ird`.`x`)',
      'CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v_straight` AS select 1 AS `1` from (`reports`.`a` straight_join `ledger`.`entries`)',
      'CREATE TABLE `t` (`id` int) /* from `p`.`t` in a comment of a table: not a view */',
      "CREATE DEFINER=`root`@`localhost` PROCEDURE `p1`() select 1 from `p`.`t`",
    ];

    // Act
    const outside = viewSourcesOutside(statements, new Set(['reports']));

    // Assess
    expect(outside).toEqual([
      { view: 'v_cross', database: 'p', table: 't' },
      { view: 'v_join', database: 'sales', table: 'orders' },
      { view: 'v_join', database: 'we`ird', table: 'x' },
      { view: 'v_straight', database: 'ledger', table: 'entries' },
    ]);
  });
});
