// GraphiQL in a real browser (issue 31, item 14): headless Chromium at 1366×768 opens the
// development server's GraphiQL, which must load everything from that server, introspect the
// schema within the query limits and list the root types in its docs explorer.
//   NODE_PATH=…/node_modules node tests/browser/graphiql.cjs http://127.0.0.1:PORT
const { chromium } = require("playwright-core");

(async () => {
  const base = process.argv[2];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => {
      if (!request.url().startsWith(base)) problems.push(`left the server: ${request.url()}`);
    });
    page.on("response", async (response) => {
      if (response.url() === `${base}/graphql` && response.request().method() === "POST") {
        const body = await response.text().catch(() => "");
        if (body.includes('"errors"')) problems.push(`refused: ${body.slice(0, 300)}`);
      }
    });
    await page.goto(`${base}/graphql`);
    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    await page.getByText("QueryRoot").first().waitFor({ timeout: 20000 });
    await page.getByText("MutationRoot").first().waitFor({ timeout: 5000 });
  } catch (error) {
    problems.push(error.message);
  } finally {
    await browser.close();
  }
  if (problems.length) {
    console.error(`GraphiQL in Chromium:\n${problems.join("\n")}`);
    process.exit(1);
  }
  console.log("GraphiQL in Chromium: the docs explorer lists QueryRoot and MutationRoot");
})();
