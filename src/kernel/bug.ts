// BUG() and panic(): the report is printed, then the fiber dies with ScenarioBug, which ends the
// run the way a kernel panic ends a machine.
export class ScenarioBug extends Error {
  override readonly name = "ScenarioBug";
}
