"""Forms of the sales order screens: the quotation with its Order Lines, a manual Delivered, Create Invoice."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sales.models import Product, SaleOrder, SaleOrderLine

from ..lookups import accountants, person
from .widgets import Lookup


class ProductSelect(forms.Select):
    """A product dropdown whose options carry the product's price, unit and tax for the form's script."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        product = getattr(value, "instance", None)
        if isinstance(product, Product):
            option["attrs"].update({
                "data-price": str(product.list_price),
                "data-uom": product.uom,
                "data-tax": product.tax_id or "",
            })
        return option


class QuotationForm(forms.ModelForm):
    class Meta:
        model = SaleOrder
        fields = ("customer", "accountant")
        help_texts = {"accountant": _("Its billing alerts go to them; to every accountant when empty.")}
        # Every customer is a choice; the page lists none of them (web.lookups).
        widgets = {"customer": Lookup("quotation-customers"), "accountant": Lookup("quotation-accountants")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].empty_label = _("Choose a customer")
        accountant = self.fields["accountant"]
        accountant.queryset = accountants()
        accountant.label_from_instance = person
        accountant.empty_label = _("Every accountant")


class OrderLineForm(forms.ModelForm):
    """One of the "Order Lines": an empty price takes the product's."""

    class Meta:
        model = SaleOrderLine
        fields = ("product", "name", "quantity", "uom", "price_unit", "tax")
        widgets = {
            "product": ProductSelect,
            "name": forms.TextInput(attrs={"placeholder": _("The product's name")}),
            "quantity": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "price_unit": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.select_related("tax")
        self.fields["product"].empty_label = _("Choose a product")
        self.fields["tax"].empty_label = _("No tax")
        self.fields["price_unit"].required = False

    def clean(self):
        cleaned_data = super().clean()
        product = cleaned_data.get("product")
        if product is not None:
            if cleaned_data.get("price_unit") is None:
                cleaned_data["price_unit"] = product.list_price
            if not cleaned_data.get("name"):
                cleaned_data["name"] = product.name
        return cleaned_data


# At most MAX_LINES rows: a posted TOTAL_FORMS of a million would otherwise build (and show) 2,000 forms.
MAX_LINES = 100
OrderLineFormSet = forms.inlineformset_factory(
    SaleOrder, SaleOrderLine, form=OrderLineForm, extra=1, can_delete=True,
    max_num=MAX_LINES, absolute_max=MAX_LINES, validate_max=True,
)


class DeliveredForm(forms.Form):
    """The Delivered quantity typed by hand on a "Based on Delivered Quantity (Manual)" line."""

    delivered = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, label=_("Delivered"),
                                   widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "size": 6}))


class CreateInvoiceForm(forms.Form):
    """"Create Invoice", with an optional period: only the Timesheets dated within it are billed."""

    period_start = forms.DateField(required=False, label=_("Timesheets from"),
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    period_end = forms.DateField(required=False, label=pgettext_lazy("the end of a period", "to"),
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
