/** The marketplace's stylesheet: every colour is a VS Code theme variable (light, dark, high contrast). */
export const marketplaceCss = `
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
  .toolbar { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center; padding: .6em 0;
    border-bottom: 1px solid var(--vscode-panel-border, transparent); }
  .toolbar #search { flex: 1 1 240px; min-width: 180px; }
  .toolbar label { display: flex; gap: .4em; align-items: center; color: var(--vscode-descriptionForeground); }
  .toolbar vscode-single-select { min-width: 9em; }
  .count { color: var(--vscode-descriptionForeground); margin-left: auto; }
  .layout { display: grid; grid-template-columns: minmax(200px, 320px) minmax(0, 1fr); gap: 1em; margin-top: .6em; }
  @media (max-width: 560px) { .layout { grid-template-columns: minmax(0, 1fr); } #list { max-height: 40vh; } }
  #list { overflow: auto; max-height: calc(100vh - 110px); border-right: 1px solid var(--vscode-panel-border, transparent); }
  ul.entries { list-style: none; padding: 0; margin: 0; }
  ul.entries li { padding: .45em .6em; cursor: pointer; border-left: 3px solid transparent; min-width: 0; }
  ul.entries li:hover { background: var(--vscode-list-hoverBackground); }
  ul.entries li.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground);
    border-left-color: var(--vscode-focusBorder); }
  ul.entries li:focus-visible { outline: 2px solid var(--vscode-focusBorder); outline-offset: -2px; }
  body.vscode-high-contrast ul.entries li.selected, body.vscode-high-contrast-light ul.entries li.selected {
    outline: 1px solid var(--vscode-contrastActiveBorder); }
  .row1 { display: flex; gap: .5em; align-items: baseline; flex-wrap: wrap; }
  .name { font-weight: 600; }
  .version, .id { color: var(--vscode-descriptionForeground); font-size: .9em; }
  li.selected .version, li.selected .desc, li.selected .meta { color: inherit; opacity: .9; }
  .desc { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: var(--vscode-descriptionForeground); }
  .meta { font-size: .85em; color: var(--vscode-descriptionForeground); }
  .tag { font-size: .8em; padding: 0 .45em; border-radius: 2px; border: 1px solid var(--vscode-contrastBorder, transparent);
    background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); white-space: nowrap; }
  .tag.update { background: var(--vscode-statusBarItem-prominentBackground, var(--vscode-badge-background));
    color: var(--vscode-statusBarItem-prominentForeground, var(--vscode-badge-foreground)); }
  .tag.disabled, .tag.unavailable { background: transparent; color: var(--vscode-descriptionForeground);
    border-color: var(--vscode-descriptionForeground); }
  #details { overflow: auto; max-height: calc(100vh - 110px); }
  #details header { display: flex; gap: .6em; align-items: baseline; flex-wrap: wrap; }
  #details h2 { font-size: 1.3em; margin: .3em 0; }
  #details h3 { font-size: 1.05em; margin: 1.1em 0 .3em; }
  #details h4 { font-size: .95em; margin: .8em 0 .2em; color: var(--vscode-descriptionForeground); font-weight: 600; }
  .description { margin: .2em 0 .6em; }
  .actions { display: flex; gap: .5em; flex-wrap: wrap; margin: .6em 0; }
  .busy { display: inline-flex; gap: .5em; align-items: center; color: var(--vscode-descriptionForeground); margin: .2em 0; }
  .busy vscode-progress-ring { width: 16px; height: 16px; }
  table.facts { border-collapse: collapse; margin: .6em 0; }
  table.facts th { text-align: left; padding: .15em 1.2em .15em 0; font-weight: 600; color: var(--vscode-descriptionForeground); vertical-align: top; }
  table.facts td { padding: .15em 0; word-break: break-word; }
  a { color: var(--vscode-textLink-foreground); }
  a:hover { color: var(--vscode-textLink-activeForeground); }
  pre.cmd { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 13px);
    background: var(--vscode-textCodeBlock-background); border: 1px solid var(--vscode-panel-border, transparent);
    padding: .5em .7em; white-space: pre-wrap; word-break: break-all; margin: .2em 0; }
  ul.env, ul.steps { margin: .2em 0; padding-left: 1.2em; font-family: var(--vscode-editor-font-family); }
  .muted, .empty { color: var(--vscode-descriptionForeground); }
  .error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
  .warning { color: var(--vscode-editorWarning-foreground); }
  details.problems { margin-top: 1em; color: var(--vscode-descriptionForeground); }
  details.problems summary { cursor: pointer; }
  details.problems code { font-family: var(--vscode-editor-font-family); }
`;
