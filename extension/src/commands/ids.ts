/**
 * The command table: every command id the extension contributes. A VS Code test checks this list
 * against package.json `contributes.commands`.
 */
export const commandIds = {
  showStatus: 'orchestrator.showStatus',
  restartServer: 'orchestrator.restartServer',
  connectTeamServer: 'orchestrator.connectTeamServer',
  disconnectTeamServer: 'orchestrator.disconnectTeamServer',
  showLogs: 'orchestrator.showLogs',
  openDashboard: 'orchestrator.openDashboard',
  startRun: 'orchestrator.startRun',
  cancelRun: 'orchestrator.cancelRun',
  sendSelectionToAgent: 'orchestrator.sendSelectionToAgent',
  startSession: 'orchestrator.startSession',
  startSessionFromEditor: 'orchestrator.startSessionFromEditor',
  submitSessionGoal: 'orchestrator.submitSessionGoal',
  approveSession: 'orchestrator.approveSession',
  reviewPlan: 'orchestrator.reviewPlan',
  approvePlan: 'orchestrator.approvePlan',
  cancelSession: 'orchestrator.cancelSession',
  applySession: 'orchestrator.applySession',
  reviewChanges: 'orchestrator.reviewChanges',
  retrySession: 'orchestrator.retrySession',
  deleteSession: 'orchestrator.deleteSession',
  retryTask: 'orchestrator.retryTask',
  cancelTask: 'orchestrator.cancelTask',
  setTaskPriority: 'orchestrator.setTaskPriority',
  configureModelProvider: 'orchestrator.configureModelProvider',
  selectDefaultModel: 'orchestrator.selectDefaultModel',
  getStarted: 'orchestrator.getStarted',
  enableAgent: 'orchestrator.enableAgent',
  disableAgent: 'orchestrator.disableAgent',
  openMarketplace: 'orchestrator.openMarketplace',
} as const;

export type CommandId = (typeof commandIds)[keyof typeof commandIds];
