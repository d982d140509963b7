/**
 * The dashboard's stylesheet. Every colour is a VS Code theme variable, so light, dark and high-contrast
 * themes need no code; a state is a hue (`--state`) drawn as a stroke and a faint fill, and high contrast
 * swaps the fill for the theme's contrast border and a thicker outline.
 */
export const dashboardCss = `
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); }
  .card.status { border-bottom: 1px solid var(--vscode-panel-border, transparent); padding-bottom: .4em; }
  .status-line { display: flex; flex-wrap: wrap; gap: .4em 1em; align-items: center; }
  .status-line .actions { margin: 0; margin-left: auto; }
  h1 { font-size: 1.2em; margin: .2em 0; display: flex; gap: .6em; align-items: center; }
  #details { margin-top: .4em; }
  h2.goal { font-size: 1.15em; margin: .2em 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  details.goal-full summary { cursor: pointer; color: var(--vscode-descriptionForeground); }
  details.goal-full pre { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); margin: .3em 0; }
  h3 { font-size: 1em; margin: 1em 0 .4em; }
  th { text-align: left; padding-right: 1.2em; font-weight: 600; color: var(--vscode-descriptionForeground); vertical-align: top; }
  td { font-family: var(--vscode-editor-font-family); word-break: break-word; }
  .actions { margin-top: .6em; display: flex; gap: .5em; flex-wrap: wrap; }
  .muted, .empty { color: var(--vscode-descriptionForeground); }
  .error { color: var(--vscode-errorForeground); }
  .approval { color: var(--vscode-editorWarning-foreground); }
  .layout { display: grid; grid-template-columns: minmax(160px, 240px) minmax(0, 1fr); gap: 1em; margin-top: 1em; }
  @media (max-width: 760px) {
    .layout { grid-template-columns: minmax(0, 1fr); }
    #sessions { max-height: 30vh; overflow: auto; }
  }
  .scroll { overflow: auto; max-height: 60vh; border: 1px solid var(--vscode-panel-border, transparent); }
  ul.sessions { list-style: none; padding: 0; margin: 0; }
  ul.sessions li { padding: .35em .5em; cursor: pointer; border-left: 3px solid transparent; display: flex; flex-direction: column; min-width: 0; }
  ul.sessions .goal { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  ul.sessions li:hover { background: var(--vscode-list-hoverBackground); }
  ul.sessions li.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground);
    border-left-color: var(--vscode-focusBorder); }
  ul.sessions li:focus-visible, [data-task]:focus-visible { outline: 2px solid var(--vscode-focusBorder); outline-offset: 1px; }
  ul.sessions .meta { font-size: .85em; opacity: .85; }
  .meter { display: grid; grid-template-columns: 5em 1fr; gap: .1em .6em; margin: .2em 0; max-width: 520px; }
  .meter .bar { grid-column: 1 / 3; height: 5px; background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-contrastBorder, transparent); }
  .meter .bar > div { height: 100%; background: var(--vscode-progressBar-background); }
  .meter.high .bar > div { background: var(--vscode-editorWarning-foreground); }
  .meter.over .bar > div { background: var(--vscode-errorForeground); }
  .state-pending, .state-ready { --state: var(--vscode-descriptionForeground); }
  .state-running { --state: var(--vscode-charts-blue, var(--vscode-progressBar-background)); }
  .state-blocked { --state: var(--vscode-charts-yellow, var(--vscode-editorWarning-foreground)); }
  .state-succeeded { --state: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .state-failed { --state: var(--vscode-testing-iconFailed, var(--vscode-errorForeground)); }
  .state-cancelled, .state-skipped, .state-requeued { --state: var(--vscode-disabledForeground); }
  svg text { fill: var(--vscode-foreground); font-size: 11px; font-family: var(--vscode-font-family); }
  svg .node { cursor: pointer; }
  svg .node rect { fill: var(--vscode-editorWidget-background); stroke: var(--state); stroke-width: 2; }
  svg .node.selected rect { stroke-width: 4; }
  svg .node.waiting rect { stroke-dasharray: 5 3; }
  svg .node .node-id { font-weight: 600; }
  svg .node .node-state { fill: var(--state); font-size: 13px; }
  svg .edge { fill: none; stroke: var(--vscode-descriptionForeground); stroke-width: 1.2; opacity: .8; }
  svg .bar { fill: color-mix(in srgb, var(--state) 40%, var(--vscode-editor-background)); stroke: var(--state); stroke-width: 1; cursor: pointer; }
  svg .bar-label { pointer-events: none; }
  svg .bar.wait { fill: none; stroke: var(--state); stroke-dasharray: 4 2; }
  svg .bar.open { stroke-dasharray: 6 2; }
  svg .tick line { stroke: var(--vscode-editorIndentGuide-background, var(--vscode-panel-border)); }
  svg .tick text { fill: var(--vscode-descriptionForeground); font-size: 10px; }
  body.vscode-high-contrast svg .node rect, body.vscode-high-contrast-light svg .node rect { fill: var(--vscode-editor-background); stroke-width: 3; }
  body.vscode-high-contrast svg .node.selected rect, body.vscode-high-contrast-light svg .node.selected rect { stroke: var(--vscode-contrastActiveBorder, var(--state)); }
  body.vscode-high-contrast ul.sessions li.selected { outline: 1px solid var(--vscode-contrastActiveBorder); }
  table.facts td { font-family: var(--vscode-font-family); }
  .transcript { max-height: 50vh; overflow: auto; }
  .transcript p.msg { white-space: pre-wrap; margin: .3em 0; }
  .transcript p.thought { color: var(--vscode-descriptionForeground); font-style: italic; }
  .transcript p.user { color: var(--vscode-descriptionForeground); border-left: 2px solid var(--vscode-textBlockQuote-border); padding-left: .5em; }
  .transcript .role { font-weight: 600; margin-right: .6em; font-style: normal; }
  .transcript summary { cursor: pointer; overflow-wrap: anywhere; }
  .transcript details.tool { margin: .2em 0; border-left: 2px solid var(--vscode-textBlockQuote-border); padding-left: .5em; }
  .transcript details.tool.failed summary { color: var(--vscode-errorForeground); }
  .transcript pre { background: var(--vscode-textCodeBlock-background); padding: .4em; overflow: auto; max-height: 20em; white-space: pre-wrap; }
  .transcript .perm { color: var(--vscode-editorWarning-foreground); }
`;
