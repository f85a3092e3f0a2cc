/*
 * opsdeck: command table and dispatch. Global options (-c FILE, --state DIR, --json)
 * are taken out of argv here, wherever they stand, so every command treats them alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"

/* Keep in step with docs/opsdeck.1 (tests/integration/test_docs.sh checks it). */
extern const struct cmd_entry cmd_up_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_machines_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_machine_start_entry;
extern const struct cmd_entry cmd_machine_stop_entry;
extern const struct cmd_entry cmd_machine_restart_entry;
extern const struct cmd_entry cmd_config_check_entry;
extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_deploy_entry;
extern const struct cmd_entry cmd_releases_entry;
extern const struct cmd_entry cmd_release_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_promote_entry;
extern const struct cmd_entry cmd_secrets_set_entry;
extern const struct cmd_entry cmd_secrets_list_entry;
extern const struct cmd_entry cmd_secrets_unset_entry;
extern const struct cmd_entry cmd_secrets_deploy_entry;
extern const struct cmd_entry cmd_gc_entry;
extern const struct cmd_entry cmd_top_entry;
extern const struct cmd_entry cmd_logstat_entry;
extern const struct cmd_entry cmd_checks_entry;
extern const struct cmd_entry cmd_check_run_entry;
extern const struct cmd_entry cmd_incidents_entry;
extern const struct cmd_entry cmd_ack_entry;
extern const struct cmd_entry cmd_heartbeats_entry;
extern const struct cmd_entry cmd_heartbeat_ping_entry;
extern const struct cmd_entry cmd_maintenance_add_entry;
extern const struct cmd_entry cmd_maintenance_list_entry;
extern const struct cmd_entry cmd_maintenance_end_entry;
extern const struct cmd_entry cmd_actor_add_entry;
extern const struct cmd_entry cmd_actor_list_entry;
extern const struct cmd_entry cmd_actor_revoke_entry;
extern const struct cmd_entry cmd_approvals_entry;
extern const struct cmd_entry cmd_approve_entry;
extern const struct cmd_entry cmd_deny_entry;
extern const struct cmd_entry cmd_evidence_entry;
extern const struct cmd_entry cmd_evidence_export_entry;
extern const struct cmd_entry cmd_evidence_verify_entry;
extern const struct cmd_entry cmd_evidence_key_entry;
extern const struct cmd_entry cmd_mcp_entry;
extern const struct cmd_entry cmd_guard_imports_entry;
extern const struct cmd_entry cmd_guard_evidence_entry;
extern const struct cmd_entry cmd_guard_heartbeat_entry;
extern const struct cmd_entry cmd_task_add_entry;
extern const struct cmd_entry cmd_task_start_entry;
extern const struct cmd_entry cmd_task_block_entry;
extern const struct cmd_entry cmd_task_done_entry;
extern const struct cmd_entry cmd_task_list_entry;
extern const struct cmd_entry cmd_task_show_entry;
extern const struct cmd_entry cmd_task_import_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_artifact_import_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_help_entry;
/* BEGIN helper-registered commands: one extern line each */
extern const struct cmd_entry cmd_migrate_lint_entry;
extern const struct cmd_entry cmd_migrate_rules_entry;
extern const struct cmd_entry cmd_migrate_dryrun_entry;
extern const struct cmd_entry cmd_migrate_apply_entry;
extern const struct cmd_entry cmd_migrate_status_entry;
extern const struct cmd_entry cmd_migrate_verify_entry;
extern const struct cmd_entry cmd_migrate_rollback_sql_entry;
/* END helper-registered commands */

const struct cmd_entry *const cmd_table[] = {
	&cmd_up_entry,
	&cmd_status_entry,
	&cmd_machines_entry,
	&cmd_top_entry,
	&cmd_logstat_entry,
	&cmd_checks_entry,
	&cmd_check_run_entry,
	&cmd_incidents_entry,
	&cmd_ack_entry,
	&cmd_heartbeats_entry,
	&cmd_heartbeat_ping_entry,
	&cmd_maintenance_add_entry,
	&cmd_maintenance_list_entry,
	&cmd_maintenance_end_entry,
	&cmd_logs_entry,
	&cmd_machine_start_entry,
	&cmd_machine_stop_entry,
	&cmd_machine_restart_entry,
	&cmd_artifact_import_entry,
	&cmd_deploy_entry,
	&cmd_releases_entry,
	&cmd_release_entry,
	&cmd_rollback_entry,
	&cmd_promote_entry,
	&cmd_secrets_set_entry,
	&cmd_secrets_list_entry,
	&cmd_secrets_unset_entry,
	&cmd_secrets_deploy_entry,
	&cmd_gc_entry,
	&cmd_actor_add_entry,
	&cmd_actor_list_entry,
	&cmd_actor_revoke_entry,
	&cmd_approvals_entry,
	&cmd_approve_entry,
	&cmd_deny_entry,
	&cmd_evidence_entry,
	&cmd_evidence_export_entry,
	&cmd_evidence_verify_entry,
	&cmd_evidence_key_entry,
	&cmd_config_check_entry,
	&cmd_doctor_entry,
	&cmd_mcp_entry,
	&cmd_guard_imports_entry,
	&cmd_guard_evidence_entry,
	&cmd_guard_heartbeat_entry,
	&cmd_task_add_entry,
	&cmd_task_start_entry,
	&cmd_task_block_entry,
	&cmd_task_done_entry,
	&cmd_task_list_entry,
	&cmd_task_show_entry,
	&cmd_task_import_entry,
	&cmd_report_entry,
	/* BEGIN helper-registered rows */
	&cmd_migrate_lint_entry,
	&cmd_migrate_rules_entry,
	&cmd_migrate_dryrun_entry,
	&cmd_migrate_apply_entry,
	&cmd_migrate_status_entry,
	&cmd_migrate_verify_entry,
	&cmd_migrate_rollback_sql_entry,
	/* END helper-registered rows */
	&cmd_version_entry,
	&cmd_help_entry,
	NULL,
};

int
main(int argc, char **argv)
{
	return cmd_main(cmd_table, argc, argv);
}
