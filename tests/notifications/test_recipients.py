"""Who receives a rule's digest, resolved when the window closes."""
from webapp.services.notifications.recipients import resolve_recipients
from webapp.services.notifications.rules import RuleForm, save_rule
from tests.conftest import make_team, make_user


def rule_for(session, people, **fields):
    data = RuleForm(name=fields.pop("name", "Installs"), all_apps=True, **fields)
    rule = save_rule(session, people["acme"], people["admin"], data)
    session.commit()
    return rule


def emails(users):
    return sorted(u.email for u in users)


def test_super_admins_audience_is_the_active_super_admins_of_the_workspace(session, people):
    make_user(session, people["acme"], "sam@acme.test", "super_admin")
    make_user(session, people["acme"], "gone@acme.test", "super_admin", active=False)
    rule = rule_for(session, people, audience="super_admins")
    assert emails(resolve_recipients(session, rule)) == ["alice@acme.test", "sam@acme.test"]


def test_everyone_is_every_active_user_of_the_workspace_and_no_one_else(session, people):
    make_user(session, people["acme"], "gone@acme.test", active=False)
    rule = rule_for(session, people, audience="everyone")
    assert emails(resolve_recipients(session, rule)) == [
        "alice@acme.test", "bob@acme.test", "carol@acme.test"]


def test_specific_users_plus_team_members_are_deduplicated_and_deactivated_skipped(session, people):
    dave = make_user(session, people["acme"], "dave@acme.test")
    erin = make_user(session, people["acme"], "erin@acme.test", active=False)
    sales = make_team(session, people["acme"], "Sales", [people["user"], dave, erin])
    support = make_team(session, people["acme"], "Support", [dave, people["admin"]])
    rule = rule_for(session, people, audience="specific", user_ids=[people["user"].id, erin.id],
                    team_ids=[sales.id, support.id])
    assert emails(resolve_recipients(session, rule)) == [
        "bob@acme.test", "carol@acme.test", "dave@acme.test"]


def test_recipients_are_resolved_when_the_window_closes_not_when_the_rule_was_made(session, people):
    sales = make_team(session, people["acme"], "Sales", [people["user"]])
    rule = rule_for(session, people, audience="specific", team_ids=[sales.id])
    later = make_user(session, people["acme"], "late@acme.test")
    from webapp.models import TeamMember

    session.add(TeamMember(team_id=sales.id, user_id=later.id))
    people["user"].active = False
    session.commit()
    assert emails(resolve_recipients(session, rule)) == ["late@acme.test"]
