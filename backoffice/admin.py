"""Every model of ours in the admin, and the class that shows it. Django imports this module (autodiscovery)."""

from django.contrib import admin

from audit.models import AuditEvent, LoginFailure
from invoicing.models import Invoice
from projects.models import Project, Task
from reports.models import Alert
from sales.models import Company, Contact, Customer, Product, SaleOrder, SaleOrderLine, Tax, WorkType
from tickets.models import HelpdeskTeam, Ticket
from timesheets.models import LockDate, TimeEntry

from .audit import AuditEventAdmin, LoginFailureAdmin
from .contacts import ContactAdmin
from .invoicing import InvoiceAdmin
from .projects import ProjectAdmin, TaskAdmin
from .reports import AlertAdmin
from .sales import (
    CompanyAdmin,
    CustomerAdmin,
    ProductAdmin,
    SaleOrderAdmin,
    SaleOrderLineAdmin,
    TaxAdmin,
    WorkTypeAdmin,
)
from .tickets import HelpdeskTeamAdmin, TicketAdmin
from .timesheets import LockDateAdmin, TimeEntryAdmin

admin.site.register(AuditEvent, AuditEventAdmin)
admin.site.register(LoginFailure, LoginFailureAdmin)
admin.site.register(Company, CompanyAdmin)
admin.site.register(Customer, CustomerAdmin)
admin.site.register(Contact, ContactAdmin)
admin.site.register(Tax, TaxAdmin)
admin.site.register(WorkType, WorkTypeAdmin)
admin.site.register(Product, ProductAdmin)
admin.site.register(SaleOrder, SaleOrderAdmin)
admin.site.register(SaleOrderLine, SaleOrderLineAdmin)
admin.site.register(Project, ProjectAdmin)
admin.site.register(Task, TaskAdmin)
admin.site.register(HelpdeskTeam, HelpdeskTeamAdmin)
admin.site.register(Ticket, TicketAdmin)
admin.site.register(TimeEntry, TimeEntryAdmin)
admin.site.register(LockDate, LockDateAdmin)
admin.site.register(Invoice, InvoiceAdmin)
admin.site.register(Alert, AlertAdmin)
