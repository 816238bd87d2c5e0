"""A small element builder for the two syntaxes: `el("ram:Name", "text", None, [children], {"attr": "v"})`."""

from lxml import etree


class Builder:
    def __init__(self, namespaces: dict[str, str]):
        """`namespaces`: prefix -> URI; the prefix "" is the default namespace (tags ":Invoice")."""
        self.namespaces = namespaces
        self.nsmap = {prefix or None: uri for prefix, uri in namespaces.items()}

    def __call__(self, tag: str, *content) -> etree._Element | None:
        """Return the element `prefix:name` holding `content`: text, elements, lists of them, attribute dicts.

        None in the content is left out; an element left with nothing in it is None itself, so an optional
        element whose value is missing disappears with it.
        """
        prefix, name = tag.split(":")
        node = etree.Element(f"{{{self.namespaces[prefix]}}}{name}", nsmap=self.nsmap)
        self._fill(node, content)
        if node.text is None and len(node) == 0:
            return None
        return node

    def empty(self, tag: str) -> etree._Element:
        """Return an element the schema wants even with nothing in it."""
        prefix, name = tag.split(":")
        return etree.Element(f"{{{self.namespaces[prefix]}}}{name}", nsmap=self.nsmap)

    def _fill(self, node, content) -> None:
        for item in content:
            if item is None:
                continue
            if isinstance(item, dict):
                node.attrib.update({key: value for key, value in item.items() if value})
            elif isinstance(item, list | tuple):
                self._fill(node, item)
            elif isinstance(item, etree._Element):
                node.append(item)
            elif str(item) != "":
                node.text = str(item)

    @staticmethod
    def document(root: etree._Element) -> bytes:
        etree.cleanup_namespaces(root)  # one declaration of each prefix, on the root
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
