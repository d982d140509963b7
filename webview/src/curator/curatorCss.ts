/** The curator's stylesheet: every colour is a VS Code theme variable (light, dark, high contrast). */
export const curatorCss = `
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
  .toolbar { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center; padding: .6em 0;
    border-bottom: 1px solid var(--vscode-panel-border, transparent); }
  .toolbar label, .form label { display: flex; gap: .4em; align-items: center; color: var(--vscode-descriptionForeground); }
  .toolbar vscode-single-select { width: 11em; }
  .toolbar vscode-textfield { width: 10.5em; }
  .count { color: var(--vscode-descriptionForeground); margin-left: auto; }
  .busy { display: inline-flex; gap: .4em; align-items: center; color: var(--vscode-descriptionForeground); }
  .busy vscode-progress-ring { width: 16px; height: 16px; }
  .layout { display: grid; grid-template-columns: minmax(200px, 300px) minmax(0, 1fr) minmax(220px, 300px); gap: 1em; margin-top: .6em; }
  @media (max-width: 900px) { .layout { grid-template-columns: minmax(180px, 260px) minmax(0, 1fr); } aside { grid-column: 1 / -1; } }
  #rows, #detail, aside { overflow: auto; max-height: calc(100vh - 90px); }
  #rows { border-right: 1px solid var(--vscode-panel-border, transparent); }
  ul.rows { list-style: none; padding: 0; margin: 0; }
  ul.rows li { padding: .45em .6em; cursor: pointer; border-left: 3px solid transparent; min-width: 0; }
  ul.rows li.dropped .title { color: var(--vscode-descriptionForeground); }
  ul.rows li:hover { background: var(--vscode-list-hoverBackground); }
  ul.rows li.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground);
    border-left-color: var(--vscode-focusBorder); }
  ul.rows li.selected .title, ul.rows li.selected .meta, ul.rows li.selected .why { color: inherit; }
  ul.rows li:focus-visible { outline: 2px solid var(--vscode-focusBorder); outline-offset: -2px; }
  body.vscode-high-contrast ul.rows li.selected, body.vscode-high-contrast-light ul.rows li.selected {
    outline: 1px solid var(--vscode-contrastActiveBorder); }
  .title { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-weight: 600; }
  .row2 { display: flex; gap: .3em; flex-wrap: wrap; margin: .15em 0; }
  .meta, .why { font-size: .85em; color: var(--vscode-descriptionForeground); }
  .why { font-style: italic; }
  .tag { font-size: .8em; padding: 0 .45em; border-radius: 2px; border: 1px solid var(--vscode-contrastBorder, transparent);
    background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); white-space: nowrap; }
  .tag.dropped { background: transparent; color: var(--vscode-descriptionForeground); border-color: var(--vscode-descriptionForeground); }
  .tag.edited { background: var(--vscode-statusBarItem-prominentBackground, var(--vscode-badge-background));
    color: var(--vscode-statusBarItem-prominentForeground, var(--vscode-badge-foreground)); }
  .tag.redacted { background: var(--vscode-editor-findMatchHighlightBackground); color: var(--vscode-foreground); }
  mark.redaction { background: var(--vscode-editor-findMatchHighlightBackground); color: var(--vscode-foreground);
    outline: 1px solid var(--vscode-editor-findMatchBorder, var(--vscode-focusBorder)); border-radius: 2px; padding: 0 .15em; }
  #detail header { display: flex; gap: .6em; align-items: baseline; flex-wrap: wrap; }
  #detail h2 { font-size: 1.2em; margin: .3em 0; overflow-wrap: anywhere; }
  h3 { font-size: 1.05em; margin: 1em 0 .3em; }
  h4 { font-size: .95em; margin: .8em 0 .2em; color: var(--vscode-descriptionForeground); font-weight: 600; }
  .fate.dropped { color: var(--vscode-editorWarning-foreground); }
  .actions, .msg-actions { display: flex; gap: .5em; flex-wrap: wrap; margin: .4em 0; }
  .msg-actions { margin: 0 0 0 auto; }
  table.facts { border-collapse: collapse; margin: .4em 0; }
  table.facts th { text-align: left; padding: .1em 1.2em .1em 0; font-weight: 600; color: var(--vscode-descriptionForeground); vertical-align: top; }
  table.facts td { padding: .1em 0; word-break: break-word; }
  ol.conversation { list-style: none; padding: 0; margin: 0; }
  .msg { border: 1px solid var(--vscode-panel-border, transparent); border-left-width: 3px; border-radius: 3px; padding: .4em .6em; margin: .4em 0; }
  .msg.user { border-left-color: var(--vscode-charts-blue, var(--vscode-focusBorder)); }
  .msg.assistant { border-left-color: var(--vscode-charts-green, var(--vscode-focusBorder)); }
  .msg.tool { border-left-color: var(--vscode-charts-purple, var(--vscode-descriptionForeground)); background: var(--vscode-textCodeBlock-background); }
  .msg.system { border-left-color: var(--vscode-descriptionForeground); }
  .msg.edited { outline: 1px dashed var(--vscode-statusBarItem-prominentBackground, var(--vscode-focusBorder)); }
  .who { display: flex; gap: .5em; align-items: center; font-weight: 600; font-size: .9em; color: var(--vscode-descriptionForeground); }
  .content { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: .2em; }
  .toolcall { margin-top: .3em; }
  .toolname { font-family: var(--vscode-editor-font-family); font-size: .9em; }
  pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 13px);
    background: var(--vscode-textCodeBlock-background); padding: .4em .6em; white-space: pre-wrap; word-break: break-all; margin: .2em 0; }
  vscode-textarea { width: 100%; }
  .form { display: flex; flex-direction: column; gap: .4em; }
  .form label { justify-content: space-between; }
  .form vscode-textfield { width: 11em; }
  .formats { display: flex; flex-direction: column; gap: .2em; }
  ul.plain, ul.files { list-style: none; padding: 0; margin: .2em 0; }
  ul.files li { margin: .2em 0; overflow-wrap: anywhere; }
  code, .path { font-family: var(--vscode-editor-font-family); }
  .n { text-align: right; font-variant-numeric: tabular-nums; }
  table.histogram { width: 100%; border-collapse: collapse; }
  table.histogram th { text-align: right; font-weight: normal; color: var(--vscode-descriptionForeground); padding-right: .5em; white-space: nowrap; width: 5em; }
  table.histogram td { padding: .1em 0; }
  .bar { display: block; height: .8em; background: var(--vscode-charts-blue, var(--vscode-progressBar-background)); }
  .muted, .empty { color: var(--vscode-descriptionForeground); }
  .error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
  .warning { color: var(--vscode-editorWarning-foreground); }
  .job-state.failed { background: var(--vscode-errorForeground); }
  .job-state.succeeded { background: var(--vscode-charts-green, var(--vscode-badge-background)); }
  details.reasons summary { cursor: pointer; color: var(--vscode-descriptionForeground); }
`;
