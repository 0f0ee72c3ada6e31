// A vitest reporter that ends the run with one line per project, `tests[<project>]: N passed, N failed`
// (.ci/run sums them). A file that failed without a failed test (it did not load) counts as one failure.
import type { Reporter, TestModule } from 'vitest/node';

export default class ProjectCountsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = new Map<string, { passed: number; failed: number }>();
    for (const module of modules) {
      const name = module.project.name || 'default';
      const count = counts.get(name) ?? { passed: 0, failed: 0 };
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed += 1;
        if (state === 'failed') failedTests += 1;
      }
      count.failed += failedTests === 0 && module.state() === 'failed' ? 1 : failedTests;
      counts.set(name, count);
    }
    for (const [name, { passed, failed }] of counts) {
      console.log(`tests[${name}]: ${passed} passed, ${failed} failed`);
    }
  }
}
