from django.test import Client


def test_the_agreement_is_written_in_the_admin(world):
    root = world.users["nobody"]
    root.is_staff = root.is_superuser = True
    root.save()
    client = Client()
    client.force_login(root)
    for url in ("/admin/plan/agreement/add/", "/admin/plan/indicator/add/", "/admin/plan/agreement/"):
        assert client.get(url).status_code == 200
