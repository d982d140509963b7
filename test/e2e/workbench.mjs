// What a person does in the workbench, for the palette e2e: run a command from F1, answer an input box,
// read notifications (toast or Notification Center), find a tree row and click its inline action.
// Every wait has a deadline.

export function workbench(page) {
  async function palette(title, deadline = Date.now() + 60_000) {
    for (;;) {
      await page.keyboard.press('F1');
      await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
      await page.keyboard.type(title);
      try {
        await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, {
          timeout: Math.max(1_000, Math.min(10_000, deadline - Date.now())),
        });
        await page.keyboard.press('Enter');
        return;
      } catch (e) {
        await page.keyboard.press('Escape');
        if (Date.now() > deadline) throw e;
      }
    }
  }

  /** Types `text` into the open input box (a command's showInputBox) and accepts it. */
  async function answerInput(text, { title } = {}) {
    const box = page.locator('.quick-input-widget', title ? { hasText: title } : {});
    await box.first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.quick-input-widget input').first().fill(text);
    await page.keyboard.press('Enter');
  }

  /** Clicks a button of a modal dialog (showInformationMessage with modal: true). */
  async function dialogButton(label, timeout = 60_000) {
    const button = page.locator('.monaco-dialog-box .monaco-button', { hasText: label }).first();
    await button.waitFor({ state: 'visible', timeout });
    await button.click();
  }

  /**
   * The first notification whose message matches `re`, as a locator of its list item. Toasts hide themselves
   * and are not always shown in server-main mode, so the Notification Center is opened at once and kept
   * open: every notification, shown before or after, is listed there until it is closed.
   */
  async function notification(re, timeout = 30_000) {
    const end = Date.now() + timeout;
    let centerOpened = false;
    const centerVisible = () =>
      page
        .locator('.notifications-center.visible')
        .count()
        .then((n) => n > 0)
        .catch(() => false);
    for (;;) {
      const item = page
        .locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item')
        .filter({ has: page.locator('.notification-list-item-message', { hasText: re }) })
        .first();
      if (await item.count()) return item;
      if (!(await centerVisible())) {
        // Bounded: a palette that cannot find the command must not stop the polling.
        centerOpened = await palette('Notifications: Show Notifications', Math.min(end, Date.now() + 10_000)).then(
          () => true,
          () => false,
        );
      }
      if (Date.now() > end) {
        const seen = await page
          .locator('.notification-list-item-message')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(
          `no notification matching ${re} within ${timeout} ms; seen: ${JSON.stringify(seen)}; center opened by us: ${centerOpened}, visible: ${await centerVisible()}`,
        );
      }
      await page.waitForTimeout(300);
    }
  }

  /** A row of a tree view in the side bar whose text contains every one of `texts`. */
  function row(...texts) {
    let l = page.locator('.pane-body .monaco-list-row');
    for (const t of texts) l = l.filter({ hasText: t });
    return l.first();
  }

  /** Hovers a row and clicks its inline action (a `view/item/context` command with group inline). */
  async function inlineAction(r, title) {
    await r.hover();
    await r.click();
    const action = r.locator(`.action-label[aria-label="${title}"]`);
    await action.waitFor({ state: 'visible', timeout: 10_000 });
    await action.click();
  }

  async function statusBar(re, timeout = 30_000) {
    const item = page.locator('.statusbar-item', { hasText: re }).first();
    await item.waitFor({ timeout });
    return item.innerText();
  }

  /** The visible lines of the Output panel after running `command` (a "Show Logs" command), for failure reports. */
  async function outputText(command) {
    try {
      await page.keyboard.press('Escape');
      await palette(command, Date.now() + 10_000);
      const lines = page.locator('.part.panel .view-lines').first();
      await lines.waitFor({ state: 'visible', timeout: 5_000 });
      await page.waitForTimeout(1_000);
      return await lines.innerText({ timeout: 5_000 });
    } catch (e) {
      return `(could not read the Output panel: ${e.message})`;
    }
  }

  return { palette, answerInput, dialogButton, notification, row, inlineAction, statusBar, outputText };
}
