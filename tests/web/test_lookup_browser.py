"""Issue 16, point 2, in Chromium: the searchable selects (static/js/lookup.js) with the keyboard and the mouse,
under the Content Security Policy, and the admin's Members autocomplete."""

from playwright.sync_api import expect

from ..browser import lookup_box
from ..factories import CustomerFactory, TicketFactory, UserFactory, confirmed_line
from .test_content_security_policy import watch


def test_the_tickets_list_filters_by_a_customer_picked_with_the_keyboard(open_browser, member, ticket):
    for name in ("Initech", "Initrode", "Globex"):
        TicketFactory(team=ticket.team, customer=CustomerFactory(name=name), title=f"Fax of {name} is down")
    page = open_browser(member)
    complaints = watch(page)
    page.get_by_role("link", name="Tickets", exact=True).click()
    expect(page.locator("#tickets tbody tr")).to_have_count(4)

    box = lookup_box(page, "Customer")
    box.fill("init")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_text(["Initech", "Initrode"])
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")  # the first is highlighted as the answer comes: the second
    expect(listbox.get_by_role("option", name="Initrode")).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", listbox.get_by_role("option", name="Initrode")
                                  .get_attribute("id"))
    box.press("Enter")  # picks
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("Initrode")
    box.press("Enter")  # sends the form
    expect(page.locator("#tickets tbody tr")).to_have_count(1)
    expect(page.locator("#tickets")).to_contain_text("Fax of Initrode is down")
    expect(lookup_box(page, "Customer")).to_have_value("Initrode")  # the filter stays

    # Escape closes the list and keeps the choice; emptying the box chooses "All customers" again.
    box = lookup_box(page, "Customer")
    box.fill("glob")
    expect(page.get_by_role("option", name="Globex")).to_be_visible()
    box.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(box).to_have_value("Initrode")
    box.fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#tickets tbody tr")).to_have_count(4)
    assert complaints == []


def test_a_sales_order_item_picked_with_the_mouse_is_saved(open_browser, member, ticket):
    second = confirmed_line(order__customer=ticket.customer, name="Prepaid block")
    for _ in range(25):  # more lines than a page of answers: the list asks for the next page on "More…"
        confirmed_line(order__customer=ticket.customer, name="Older block")
    last = confirmed_line(order__customer=ticket.customer, name="Newest block")
    page = open_browser(member)
    complaints = watch(page)
    page.goto(f"/tickets/{ticket.pk}/")
    box = lookup_box(page, "Sales Order Item")
    expect(box).to_have_value(f"{ticket.sale_line.order.name} · Service on Timesheet · 0.00 h delivered")

    box.click()
    options = page.get_by_role("option")
    expect(options.first).to_have_text("— none: time is not billed —")
    expect(options).to_have_count(22)  # the empty choice, 20 lines, "More…"
    page.get_by_role("option", name="More…").click()
    expect(options).to_have_count(29)  # the empty choice and all 28 lines
    page.get_by_role("option", name=f"{last.order.name} · Newest block · 0.00 h delivered").click()
    expect(box).to_have_value(f"{last.order.name} · Newest block · 0.00 h delivered")

    box.fill("prepaid")
    page.get_by_role("option", name=f"{second.order.name} · Prepaid block · 0.00 h delivered").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".msg.success")).to_have_text(f"Sales Order Item set to {second.order.name} · Prepaid block.")
    ticket.refresh_from_db()
    assert ticket.sale_line == second
    assert complaints == []


def test_the_admin_offers_agents_and_managers_as_team_members(open_browser, manager, ticket, member):
    UserFactory(username="agent_two", role="Agents")
    UserFactory(username="agent_gone", role="Agents", is_active=False)
    UserFactory(username="agent_books", role="Accountants")
    page = open_browser(manager)
    complaints = watch(page)
    page.goto(f"/admin/tickets/helpdeskteam/{ticket.team.pk}/change/")
    members = page.locator(".field-members")
    expect(members.locator("select option")).to_have_text(["agent"])  # the members only
    members.locator(".select2-search__field").fill("agent_")
    expect(page.locator(".select2-results__option")).to_have_text(["agent_two"])
    page.locator(".select2-results__option", has_text="agent_two").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert sorted(ticket.team.members.values_list("username", flat=True)) == ["agent", "agent_two"]
    assert complaints == []
