from django.contrib.auth import views as auth_views
from django.urls import path

from samverkan.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/setup/", views.otp_enrol, name="otp_enrol"),
    path("otp/backup-codes/", views.otp_backup_codes, name="otp_backup_codes"),
    path("otp/new-phone/", views.otp_reset, name="otp_reset"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
