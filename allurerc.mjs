// Allure 3 configuration of the acceptance report (npm package "allure", pinned in package.json).
//   npx allure generate reports/allure-results        -> reports/allure-report/ (awesome/ and single-file/)
// History: every generate appends this run to reports/allure-history/history.jsonl (trends across runs);
// keep that file between CI runs (cache or artifact) to get trends there too.
// The reports directory is NARRATIVE_REPORTS_DIR when set (as for the sign-off), else reports/.
import { defineConfig } from "allure";

const reports = process.env.NARRATIVE_REPORTS_DIR || "reports";

export default defineConfig({
  name: "Story 9.3 - Integration Test Fixtures",
  output: `${reports}/allure-report`,
  historyPath: `${reports}/allure-history/history.jsonl`,
  historyLimit: 50,
  plugins: {
    // the browsable report: reports/allure-report/awesome/index.html
    awesome: {
      options: {
        reportName: "Story 9.3 - Integration Test Fixtures",
        groupBy: ["epic", "feature", "story"],
        singleFile: false,
      },
    },
    // one self-contained HTML file to attach to a ticket: reports/allure-report/single-file/index.html
    "single-file": {
      import: "@allurereport/plugin-awesome",
      options: {
        reportName: "Story 9.3 - Integration Test Fixtures (single file)",
        groupBy: ["epic", "feature", "story"],
        singleFile: true,
      },
    },
  },
});
